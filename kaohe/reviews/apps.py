from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "kaohe.reviews"
    verbose_name = "分类考核"
