-- The operator checkpoints the workers (SIGTERM) and deletes them; progress, history and checkpoints stay.
obj.spec.suspend = true
return obj
