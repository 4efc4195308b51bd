"""One record per act: the form tokens already spent.

Every form that creates something carries a one-time token (``{% once_token %}``). The
middleware in kaohe.maintenance.once records (user, token) before the view runs; the unique
constraint lets exactly one of several identical POSTs (a double click, a resent form, five
at once) through. Tokens older than a day are purged (``kaohe purge_exports``).
"""

from django.conf import settings
from django.db import models


class SpentFormToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    token = models.CharField(max_length=64)
    path = models.CharField(max_length=300)
    # Real time, not kaohe.lib.clock: replay protection, purged a real day later.
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Where the first request sent the user; a repeat is sent to the same place.
    redirect_to = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="spent_form_token_once"),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.token}"
