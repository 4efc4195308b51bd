from kaohe.accounts.capabilities import CAPABILITIES, has_capability
from kaohe.lib import clock


def capabilities(request):
    user = getattr(request, "user", None)
    caps = set()
    if user is not None and user.is_authenticated:
        caps = {cap for cap in CAPABILITIES if has_capability(user, cap)}
    return {"caps": caps, "simulated_today": clock.today() if clock.is_simulated() else None}
