from django.core.paginator import Paginator
from django.shortcuts import render

from kaohe.accounts.capabilities import VIEW_ACCOUNTS, capability_required
from kaohe.accounts.models import Role, User


@capability_required(VIEW_ACCOUNTS)
def user_list(request):
    users = User.objects.select_related("unit", "province", "lead_department").order_by(
        "role", "username"
    )
    role = request.GET.get("role", "")
    if role in Role.values:
        users = users.filter(role=role)
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html",
                  {"page": page, "roles": Role.choices, "role": role})
