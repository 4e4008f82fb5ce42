from .banner import post_load
