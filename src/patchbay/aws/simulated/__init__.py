"""The simulated bucket: S3 as a browser and ``S3Client`` see it, on this machine.

While simulating, presigned forms and URLs point at patchbay's own endpoints
instead of S3, and objects live in a local directory:

* :mod:`~patchbay.aws.simulated.sigv4`: the simulation credentials and SigV4 signing;
* :mod:`~patchbay.aws.simulated.presigning`: presigned POST forms and object URLs;
* :mod:`~patchbay.aws.simulated.policy`: S3's checks of a POST upload;
* :mod:`~patchbay.aws.simulated.store`: the local directory that holds the objects;
* :mod:`~patchbay.aws.simulated.views`: the two endpoints (upload, object).
"""

from __future__ import annotations
