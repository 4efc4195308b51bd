from django.urls import path

from kaohe.grading import views

app_name = "grading"
urlpatterns = [
    path("", views.index, name="index"),
    path("compute/", views.compute, name="compute"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/release/", views.release, name="release"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/abandon/", views.abandon, name="abandon"),
    path("<int:pk>/compare/<int:other_pk>/", views.compare, name="compare"),
]
