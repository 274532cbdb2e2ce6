"""Deploy ``template.yaml`` to AWS with CloudFormation, in stages that each do one thing.

* :mod:`wsapp.deploy.targets` reads what the template asks to be built (through the emulator's
  model) and :mod:`wsapp.deploy.build` builds it as ``sam build`` does, with aws-lambda-builders;
  :mod:`wsapp.deploy.package` zips each build so its bytes depend only on its files: its SHA-256
  names it and an unchanged build uploads nothing.
* :mod:`wsapp.deploy.plan` is pure: it reads the template and parameters, points each function's
  code at its artifact's S3 key and translates the SAM template offline, so ``--dry-run`` shows what
  would be created without a single AWS call.
* :mod:`wsapp.deploy.apply` is the only module that talks to AWS: S3 upload, change set, event
  streaming, outputs, delete.
"""
