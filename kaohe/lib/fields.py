"""Model fields of the application."""

from typing import Any

from django.db import models

from kaohe.lib import clock


class StampedDateTimeField(models.DateTimeField):  # type: ignore[type-arg]
    """A DateTimeField whose auto_now / auto_now_add stamp comes from kaohe.lib.clock, so a
    simulated day (KAOHE_TODAY) dates the rows too. It deconstructs as Django's own field:
    the stamp is Python-side only, so it needs no migration."""

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        if self.auto_now or (self.auto_now_add and add):
            value = clock.now()
            setattr(model_instance, self.attname, value)
            return value
        return super().pre_save(model_instance, add)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DateTimeField", args, kwargs
