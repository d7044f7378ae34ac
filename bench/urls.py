"""The project's URLs plus the comparison views, for the benchmark only."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

from . import comparison

stock_views = {"get": "list"}
urlpatterns = [
    path("bench/raw/tracks", comparison.raw_tracks),
    path("bench/plain/tracks", comparison.PlainTracks.as_view()),
    path("bench/plain/products", comparison.PlainProducts.as_view()),
    path("bench/plain/track-page", comparison.PlainTrackPage.as_view()),
    path("bench/plain/tracks/<pk>", comparison.PlainTrack.as_view()),
    path("bench/stock/tracks", comparison.StockTracks.as_view(stock_views)),
    path("bench/stock/products", comparison.StockProducts.as_view(stock_views)),
    path(
        "bench/plain/writes/tracks",
        comparison.PlainTrackWrites.as_view({"post": "create"}),
    ),
    path(
        "bench/plain/writes/tracks/<pk>",
        comparison.PlainTrackWrites.as_view({"patch": "partial_update"}),
    ),
]
for name, view in (("tracks", comparison.StockTracks), ("products", comparison.StockProducts)):
    urlpatterns += [
        path(
            f"bench/stock/{name}/<pk>",
            view.as_view({"get": "retrieve"}),
            name=f"bench-dja-{name}-detail",
        ),
        path(
            f"bench/stock/{name}/<pk>/relationships/<related_field>",
            view.as_view(stock_views),
            name=f"bench-dja-{name}-relationships",
        ),
        path(
            f"bench/stock/{name}/<pk>/<related_field>",
            view.as_view({"get": "retrieve_related"}),
            name=f"bench-dja-{name}-related",
        ),
    ]
urlpatterns += project_urlpatterns
