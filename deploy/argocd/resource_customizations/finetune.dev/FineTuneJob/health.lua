-- Argo CD health check for finetune.dev/FineTuneJob.
-- Install: deploy/argocd/argocd-cm-patch.yaml (key resource.customizations.health.finetune.dev_FineTuneJob).
-- Like Argo's own check for batch Jobs: running is Progressing, done is Healthy, failed is Degraded;
-- plus Suspended for spec.suspend, and Degraded as soon as the operator reports Stalled (a missing
-- PVC, a bad image), so a sync does not wait forever on a job that cannot start.
local hs = {}

local function condition(conditions, type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick the job up"
  return hs
end

local status = obj.status
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local conditions = status.conditions
local phase = status.phase

if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = describe(condition(conditions, "Succeeded"), "Training finished")
  return hs
end
if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = describe(condition(conditions, "Failed"), "The job failed")
  return hs
end
if phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = describe(condition(conditions, "Suspended"), "spec.suspend is true")
  return hs
end

local stalled = condition(conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "The job cannot make progress")
  return hs
end

hs.status = "Progressing"
if phase == "Training" then
  local d = status.display or {}
  local parts = {}
  if d.epoch ~= nil then table.insert(parts, "epoch " .. d.epoch) end
  if d.step ~= nil then table.insert(parts, "step " .. d.step) end
  if d.evalLoss ~= nil then table.insert(parts, "eval loss " .. d.evalLoss) end
  if d.rewardAccuracy ~= nil then table.insert(parts, "reward accuracy " .. d.rewardAccuracy) end
  if d.eta ~= nil then table.insert(parts, "ETA " .. d.eta) end
  hs.message = "Training" .. (#parts > 0 and (": " .. table.concat(parts, ", ")) or "")
else
  hs.message = describe(condition(conditions, "Reconciling"), phase)
end
return hs
