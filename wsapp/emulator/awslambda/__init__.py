"""The Lambda service: execution environments, their lifecycle and logs, the invoke interface.

Other parts import only :mod:`wsapp.emulator.awslambda.invocation`.
"""
