"""``yingshe studio``: a web page (Gradio) over every registered mapping.

Import :mod:`yingshe.studio.app` only when Gradio is installed (``pip install "yingshe[studio]"``);
:mod:`yingshe.studio.controls` and :mod:`yingshe.studio.service` need no Gradio.
"""
