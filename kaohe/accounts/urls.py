from django.urls import path

from kaohe.accounts import admin_views, bulk_views, views

app_name = "accounts"
urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    # The three administrator duties (kaohe.accounts.admin_views).
    path("users/new/", admin_views.user_create, name="admin_user_create"),
    path("users/<int:pk>/", admin_views.user_detail, name="admin_user_detail"),
    path("users/<int:pk>/edit/", admin_views.user_edit, name="admin_user_edit"),
    path("users/<int:pk>/active/", admin_views.user_set_active, name="admin_user_active"),
    path("users/<int:pk>/password/", admin_views.user_reset_password,
         name="admin_user_password"),
    path("users/<int:pk>/role/", admin_views.user_role, name="admin_user_role"),
    path("users/<int:pk>/unlock/", admin_views.user_unlock, name="admin_user_unlock"),
    path("users/<int:pk>/two-factor/reset/", admin_views.user_reset_two_factor,
         name="admin_user_two_factor_reset"),
    path("users/<int:pk>/enrolment-code/", admin_views.user_enrolment_code,
         name="admin_user_enrolment_code"),
    # Accounts for every unit and province in one act (kaohe.accounts.bulk).
    path("users/bulk/", bulk_views.bulk_open, name="bulk_open"),
    path("users/bulk/roles/", bulk_views.bulk_roles, name="bulk_roles"),
    path("users/bulk/roles/codes/new/", bulk_views.code_letters_make, name="code_letters_make"),
    path("users/bulk/roles/codes/<int:pk>/", bulk_views.code_letters_status,
         name="code_letters_status"),
    path("users/bulk/roles/codes/<int:pk>/download/", bulk_views.code_letters_download,
         name="code_letters_download"),
    path("users/bulk/letters/", bulk_views.credential_letters, name="credential_letters"),
    path("users/bulk/letters/new/", bulk_views.credential_letters_make,
         name="credential_letters_make"),
    path("users/bulk/letters/<int:pk>/", bulk_views.credential_letters_status,
         name="credential_letters_status"),
    path("users/bulk/letters/<int:pk>/download/", bulk_views.credential_letters_download,
         name="credential_letters_download"),
    path("settings/", admin_views.settings_view, name="admin_settings"),
    path("security-policy/", admin_views.security_policy_view, name="admin_security_policy"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/enrol/", views.two_factor_enrol, name="two_factor_enrol"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
]
