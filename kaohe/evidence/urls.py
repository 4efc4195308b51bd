from django.urls import path

from kaohe.evidence import tus, views

app_name = "evidence"
urlpatterns = [
    path("uploads/", tus.uploads, name="uploads"),
    path("uploads/<uuid:pk>/", tus.upload, name="upload"),
    path("<uuid:pk>/download/", views.download, name="download"),
    path("<uuid:pk>/preview/", views.preview, name="preview"),
]
