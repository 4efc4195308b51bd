from django.urls import path

from kaohe.launch import views

app_name = "launch"
urlpatterns = [
    path("", views.index, name="index"),
    path("working-group/", views.working_group, name="working_group"),
    path("working-group/add/", views.member_add, name="member_add"),
    path("working-group/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("working-group/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("lead/<int:lead_pk>/", views.lead, name="lead"),
    path("lead/<int:lead_pk>/team/", views.team_file, name="team_file"),
    path("lead/<int:lead_pk>/plan/", views.plan_file, name="plan_file"),
    path("lead/<int:lead_pk>/plan/download/", views.plan_download, name="plan_download"),
    path("lead/<int:lead_pk>/innovation/", views.innovation, name="innovation"),
    path("lead/<int:lead_pk>/innovation/add/", views.refined_add, name="refined_add"),
    path("innovation/<int:pk>/edit/", views.refined_edit, name="refined_edit"),
    path("innovation/<int:pk>/remove/", views.refined_remove, name="refined_remove"),
    path("training/", views.training, name="training"),
    path("training/sessions/add/", views.session_add, name="session_add"),
    path("training/sessions/<int:pk>/", views.session, name="session"),
    path("training/sessions/<int:pk>/attendance/", views.attendance_save,
         name="attendance_save"),
    path("training/sessions/<int:pk>/materials/", views.material_add, name="material_add"),
    path("training/materials/<int:pk>/", views.material_download, name="material_download"),
    path("training/materials/<int:pk>/remove/", views.material_remove, name="material_remove"),
]
