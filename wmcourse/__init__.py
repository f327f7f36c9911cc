"""wmcourse: World Models (Ha & Schmidhuber 2018) and Dreamer, one small module per idea.

V (vae.py) sees, M (mdnrnn.py) remembers and predicts, C (controller.py) acts. The notebooks in
notebooks/ import these modules; `python -m wmcourse --help` runs every stage of the pipeline.
"""

__version__ = "0.1.0"
