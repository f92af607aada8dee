"""The optional C accelerator (``brisk._protocol._speedups``); everything else is in pyproject.toml.

``optional=True``: where no compiler or Python headers exist, the build goes on without it and brisk runs
its pure-Python parser. Set ``BRISK_NO_EXTENSIONS=1`` at run time to use the pure-Python path anyway.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "brisk._protocol._speedups",
            ["src/brisk/_protocol/_speedups.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
