from django.urls import path

from kaohe.submissions import views

app_name = "submissions"
urlpatterns = [
    path("self/", views.self_report_index, name="self_reports"),
    path("self/<int:pk>/", views.self_report_detail, name="self_report"),
    path("self/<int:pk>/save/", views.self_report_save, name="self_report_save"),
    path("self/<int:pk>/submit/", views.self_report_submit, name="self_report_submit"),
    path("self/<int:pk>/attach/", views.self_report_attach, name="self_report_attach"),
    path("self/<int:pk>/link/", views.self_report_add_link, name="self_report_link"),
    path("self/<int:pk>/detach/<int:attachment_pk>/", views.self_report_detach,
         name="self_report_detach"),
    path("self/<int:pk>/return/", views.self_report_return, name="self_report_return"),
    path("self/<int:pk>/versions/<int:number>/", views.self_report_version,
         name="self_report_version"),
    path("self/<int:pk>/excel/", views.self_report_excel, name="self_report_excel"),
    path("self/<int:pk>/import/", views.self_report_import, name="self_report_import"),
    path("provincial/<int:pk>/excel/", views.provincial_excel, name="provincial_excel"),
    path("provincial/<int:pk>/import/", views.provincial_import, name="provincial_import"),
    path("provincial/", views.provincial_index, name="provincial_reports"),
    path("provincial/start/<int:unit_pk>/", views.provincial_start, name="provincial_start"),
    path("provincial/<int:pk>/", views.provincial_detail, name="provincial_report"),
    path("provincial/<int:pk>/save/", views.provincial_save, name="provincial_save"),
    path("provincial/<int:pk>/submit/", views.provincial_submit, name="provincial_submit"),
    path("provincial/<int:pk>/findings/", views.provincial_finding_add,
         name="provincial_finding_add"),
    path("cadres/", views.cadre_list, name="cadres"),
    path("cadres/add/", views.cadre_add, name="cadre_add"),
    path("cadres/secretaries/add/", views.first_secretary_add, name="first_secretary_add"),
    path("cadres/<str:kind>/<int:pk>/remove/", views.cadre_remove, name="cadre_remove"),
    path("deadlines/", views.deadline_overview, name="deadlines"),
    path("deadlines/extend/", views.extension_grant, name="extension_grant"),
]
