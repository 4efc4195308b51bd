from django.urls import path

from kaohe.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.index, name="index"),
    path("exports/<int:pk>/", views.export_status, name="export_status"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("templates/", views.templates, name="templates"),
    path("pick/<slug:identifier>/", views.pick, name="pick"),
    path("choose/<slug:identifier>/", views.choose, name="choose"),
    path("sign-off/", views.sign_off, name="sign_off"),
    path("sign-off/sequences/", views.sequence_save, name="sequence_save"),
    path("sign-off/<slug:identifier>/all/", views.sign_all, name="sign_all"),
    # Before the pattern below, which would take "withdraw/N" for a document and its key.
    path("sign-off/withdraw/<int:pk>/", views.withdraw, name="withdraw"),
    path("sign-off/<slug:identifier>/<str:key>/", views.sign, name="sign"),
    path("templates/<slug:identifier>/upload/", views.template_upload, name="template_upload"),
    path("templates/<slug:identifier>/delete/", views.template_delete, name="template_delete"),
    path("templates/<slug:identifier>/download/", views.template_download,
         name="template_download"),
    path("<slug:identifier>/<str:key>/<slug:fmt>/", views.make, name="make"),
]
