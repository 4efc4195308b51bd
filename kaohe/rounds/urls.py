from django.urls import path

from kaohe.rounds import views

app_name = "rounds"
urlpatterns = [
    path("", views.round_list, name="list"),
    path("<int:year>/", views.round_detail, name="detail"),
    path("<int:year>/indicators/<int:number>/edit/", views.indicator_edit, name="indicator_edit"),
    path("<int:year>/schedule/", views.schedule_edit, name="schedule_edit"),
    path("<int:year>/words/", views.words_edit, name="words_edit"),
    path("<int:year>/method/", views.method_detail, name="method"),
    path("<int:year>/copy/", views.round_copy_view, name="copy"),
    path("<int:year>/activate/", views.round_activate_view, name="activate"),
    path("<int:year>/close/", views.round_close_view, name="close"),
]
