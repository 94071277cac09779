async def test_smoke(app):
    print(app.url)
