"""Building beyond one machine: embedding on a Ray cluster (ray_engine.py) through a staging folder of
Parquet text shards and NumPy vector shards (staging.py). Everything else a build does stays in index/."""
