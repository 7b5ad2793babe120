"""The CPU path: every capability computed with NumPy/SciPy behind the same planners.

Used when there is no usable GPU, or when a call passes ``execution="cpu"``.
"""
