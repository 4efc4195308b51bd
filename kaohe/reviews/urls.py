from django.urls import path

from kaohe.reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("units/<int:unit_pk>/", views.desk, name="desk"),
    path("units/<int:unit_pk>/grades/", views.grades_save, name="grades_save"),
    path("units/<int:unit_pk>/sub-report/", views.sub_report_save, name="sub_report_save"),
    path("units/<int:unit_pk>/verify/", views.verify, name="verify"),
    path("units/<int:unit_pk>/activities/", views.activity_add, name="activity_add"),
    path("units/<int:unit_pk>/problems/", views.problem_add, name="problem_add"),
    path("units/<int:unit_pk>/incidents/", views.incident_add, name="incident_add"),
    path("units/<int:unit_pk>/findings/<str:kind>/<int:pk>/withdraw/", views.finding_withdraw,
         name="finding_withdraw"),
    path("categories/<int:lead_pk>/", views.category, name="category"),
    path("categories/<int:lead_pk>/save/", views.category_save, name="category_save"),
    path("categories/<int:lead_pk>/submit/", views.category_submit, name="category_submit"),
    path("categories/<int:lead_pk>/return/", views.category_return, name="category_return"),
    path("cadres/", views.org_cadres, name="org_cadres"),
    path("cadres/<str:kind>/<int:pk>/check/", views.org_cadre_check, name="org_cadre_check"),
    path("cadres/problems/<int:pk>/withdraw/", views.org_finding_withdraw,
         name="org_finding_withdraw"),
    path("military/", views.military, name="military"),
    path("military/<int:unit_pk>/", views.military_add, name="military_add"),
]
