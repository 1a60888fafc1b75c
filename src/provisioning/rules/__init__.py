"""Rules that more than one handler needs, each written once, in a module named for what it decides.

A rule here is a pure function of the model's values: it reads no store and
returns the `Issue` its decision makes (or none). Handlers call it; nothing
below the handlers knows them.

- `access`: rank over a target, and what belongs to no account.
- `admins`: what protects an account's super admin.
- `classes_of_service`: every user has one; what a default may not be.
- `credentials`: who manages a user's password and profile (the directory),
  and the counter a guess at a name counts on.
- `domains`: users live on an active domain of their account.
- `users`: what a user's profile shows (its display name).

The address namespace (`address.taken`, look-alikes) reads the store and
lives with the handlers' shared checks, in `provisioning.services._addresses`,
until the re-cut gives the rules a view of the store.
"""
