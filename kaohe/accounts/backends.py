"""The account backend: Django's model backend, reading a signed-in user with the unit,
province or lead department it works for. Every page's header names that scope and most
pages of a unit, a province or a lead department ask for it: one query per page view fewer
(issue 19)."""

from django.contrib.auth.backends import ModelBackend

from kaohe.accounts.models import User


class ScopedModelBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related(
                "unit__category__lead_department", "province", "lead_department",
            ).get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
