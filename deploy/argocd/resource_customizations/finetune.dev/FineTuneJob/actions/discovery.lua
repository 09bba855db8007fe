-- Argo CD resource actions for finetune.dev/FineTuneJob: suspend a running job, resume a suspended one, restart
-- a running one (a new attempt from the last checkpoint). A job that has finished (Succeeded or Failed) offers
-- restart disabled, and a suspended one too: nothing runs that could restart (resume starts a new attempt).
local actions = {}
local restart = {["iconClass"] = "fa fa-fw fa-redo", ["disabled"] = false}

local phase = obj.status ~= nil and obj.status.phase or nil
if phase == "Succeeded" or phase == "Failed" then
  restart["disabled"] = true
  actions["restart"] = restart
  return actions
end

if obj.spec ~= nil and obj.spec.suspend == true then
  actions["resume"] = {["iconClass"] = "fa fa-fw fa-play"}
  restart["disabled"] = true
else
  actions["suspend"] = {["iconClass"] = "fa fa-fw fa-pause"}
end
actions["restart"] = restart
return actions
