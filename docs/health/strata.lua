-- Argo CD health for Strata's LayerSet and OverlayMount (the same rules for both kinds).
-- Install it under both keys of argocd-cm, as docs/gitops.md shows:
--   resource.customizations.health.strata.io_LayerSet
--   resource.customizations.health.strata.io_OverlayMount
-- It reads the conditions the controller writes, as kstatus does: Stalled (only a change to the
-- object helps) is Degraded; Reconciling (nodes fetching, building, mounting, or trying again) is
-- Progressing; Degraded (some nodes failed for good, others are fine) is Degraded; else Healthy.
local hs = {}

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Strata controller to report"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Strata controller to observe generation " .. obj.metadata.generation
  return hs
end

-- The first of these conditions that is True decides; none True is Healthy.
local rules = {
  {"Stalled", "Degraded"},
  {"Reconciling", "Progressing"},
  {"Degraded", "Degraded"},
}
for _, rule in ipairs(rules) do
  local c = condition(rule[1])
  if c ~= nil and c.status == "True" then
    hs.status = rule[2]
    hs.message = c.message
    return hs
  end
end
local ready = condition("Ready")
hs.status = "Healthy"
if ready ~= nil then
  hs.message = ready.message
end
return hs
