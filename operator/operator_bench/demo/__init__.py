"""The demo jobs with their model choices scripted: the README's main job on the practice
shop (shop.py, `operator demo`) and the sign-up demo site the end-to-end tests use."""
