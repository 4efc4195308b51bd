from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "kaohe.evidence"
    verbose_name = "证明材料"
