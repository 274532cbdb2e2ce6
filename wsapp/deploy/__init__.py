"""Deploy ``template.yaml`` to AWS with CloudFormation, in three stages that each do one thing.

* :mod:`wsapp.deploy.package` builds the function code into a zip whose bytes depend only on the
  sources (fixed timestamps and order), so its SHA-256 names it and an unchanged build uploads nothing.
* :mod:`wsapp.deploy.plan` is pure: it reads the template and parameters, points ``CodeUri`` at the
  artifact's S3 key and translates the SAM template offline, so ``--dry-run`` shows what would be
  created without a single AWS call.
* :mod:`wsapp.deploy.apply` is the only module that talks to AWS: S3 upload, change set, event
  streaming, outputs, delete.
"""
