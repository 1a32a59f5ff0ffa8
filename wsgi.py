from cardadmin import create_app

app = create_app()
