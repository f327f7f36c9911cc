"""shipped"""
