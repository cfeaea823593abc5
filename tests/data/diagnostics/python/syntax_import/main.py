import views

print(views.index())
