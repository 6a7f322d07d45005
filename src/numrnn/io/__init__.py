"""numrnn's files: atomic writes (atomic.py), the .npz model format (format.py) and numrnn.load (load.py)."""
