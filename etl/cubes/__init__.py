"""cubes"""
