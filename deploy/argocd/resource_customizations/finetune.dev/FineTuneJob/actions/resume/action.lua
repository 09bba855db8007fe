-- The operator starts a new attempt that continues from status.lastCheckpoint.
obj.spec.suspend = false
return obj
