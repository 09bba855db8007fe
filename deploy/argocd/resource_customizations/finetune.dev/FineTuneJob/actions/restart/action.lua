-- Asks the operator to restart the job: the running attempt's workers checkpoint on SIGTERM and stop, and the
-- next attempt resumes from the last checkpoint, not counted against spec.backoffLimit. Each run writes the
-- current time, a new request; the operator answers each value once (status.lastRestartRequest).
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["finetune.dev/restart-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
