"""The Docker Compose runtime: ``docker_compose`` + ``dc_resource`` resources, their
``docker_build`` images built by tilt-lsp and live-updated through the synclet.

``controller.py`` decides; ``images.py`` builds, ``deploy.py`` runs compose, ``liveupdate.py``
puts files into containers, ``watch.py`` follows events and logs; ``service.py`` is what they
share and ``windows.py`` tells the deaths we caused from crashes.
"""

from tilt_lsp.runtime.compose.controller import ComposeController

__all__ = ["ComposeController"]
