from django.urls import path

from kaohe.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("feedback/", views.feedback_list, name="feedback_list"),
    path("feedback/prepare/", views.feedback_prepare, name="feedback_prepare"),
    path("feedback/<int:pk>/", views.feedback_edit, name="feedback_edit"),
    path("mine/", views.my_result, name="my_result"),
    path("mine/rectification/", views.my_rectification_save, name="my_rectification_save"),
    path("mine/rectification/attach/", views.my_rectification_attach,
         name="my_rectification_attach"),
    path("mine/rectification/attachments/<int:pk>/remove/", views.my_rectification_detach,
         name="my_rectification_detach"),
    path("rectification/", views.rectification_list, name="rectification_list"),
    path("rectification/<int:unit_pk>/", views.rectification_detail,
         name="rectification_detail"),
    path("rectification/<int:unit_pk>/extend/", views.rectification_extend,
         name="rectification_extend"),
    path("rectification/<int:unit_pk>/items/<int:item_pk>/", views.item_review,
         name="item_review"),
    path("summons/", views.summons_list, name="summons"),
    path("summons/<int:pk>/", views.summons_update, name="summons_update"),
    path("dispatches/", views.dispatches, name="dispatches"),
    path("results/", views.org_results, name="org_results"),
]
