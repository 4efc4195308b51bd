from django.urls import path

from kaohe.directory import views

app_name = "directory"
urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("counties/", views.county_list, name="county_list"),
    path("counties/<int:pk>/", views.county_detail, name="county_detail"),
    path("counties/<int:pk>/designation/", views.county_designation, name="county_designation"),
    path("import/", views.import_view, name="import"),
    path("import/template.xlsx", views.import_template_view, name="import_template"),
    path("liaisons/", views.liaisons, name="liaisons"),
    path("figures/import/", views.figures_import, name="figures_import"),
    path("liaisons/<slug:kind>/<int:pk>/", views.liaison_edit, name="liaison_edit"),
]
