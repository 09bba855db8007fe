-- Argo CD resource actions for finetune.dev/FineTuneJob: suspend a running job, resume a suspended one.
-- A job that has finished (Succeeded or Failed) offers none: spec.suspend no longer changes anything.
local actions = {}

local phase = obj.status ~= nil and obj.status.phase or nil
if phase == "Succeeded" or phase == "Failed" then
  return actions
end

if obj.spec ~= nil and obj.spec.suspend == true then
  actions["resume"] = {["iconClass"] = "fa fa-fw fa-play"}
else
  actions["suspend"] = {["iconClass"] = "fa fa-fw fa-pause"}
end
return actions
