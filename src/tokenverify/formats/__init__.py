"""Every file format people write or read, as pydantic models, each with its JSON Schema.

The keys file (:mod:`._keys_file`), the policy file (:mod:`._policy_file`), the
revocations file (:mod:`._revocation_file`), the ``verify --json`` and ``inspect --json``
outputs (:mod:`._json_output`) and the audit report (:mod:`._audit_report`). This is
the only package that imports pydantic, and nothing on the launch path imports it: the
core reads keys files by hand (:mod:`tokenverify._keyfile`) and reaches in here only from
:meth:`KeyRegistry.save <tokenverify.KeyRegistry.save>` and
:meth:`RevocationList.load <tokenverify.RevocationList.load>`, lazily.
``tokenverify schema DOCUMENT`` prints each schema. This package imports the core only,
never the command line or the audit. Importing it imports none of its modules.
"""
