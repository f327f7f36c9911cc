"""dreamer"""
