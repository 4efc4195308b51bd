from kaohe.accounts import twofactor
from kaohe.accounts.capabilities import CAPABILITIES, has_capability
from kaohe.lib import clock


def capabilities(request):
    user = getattr(request, "user", None)
    caps = set()
    # Before the second factor the menus stay empty: their pages would not open yet.
    if user is not None and user.is_authenticated and not twofactor.must_verify(user):
        caps = {cap for cap in CAPABILITIES if has_capability(user, cap)}
    result_released = False
    if "view_own_result" in caps:
        from kaohe.grading.models import ResultSet, ResultSetStatus

        result_released = ResultSet.objects.filter(status=ResultSetStatus.RELEASED).exists()
    results_received = False
    if "receive_results" in caps:
        # The organization department's menu names the results list once it has it.
        from kaohe.outcomes.selectors import results_sent_to_org_department
        from kaohe.rounds.selection import chosen_round

        results_received = results_sent_to_org_department(chosen_round()) is not None
    return {"caps": caps, "result_released": result_released,
            "results_received": results_received,
            "simulated_today": clock.today() if clock.is_simulated() else None}
