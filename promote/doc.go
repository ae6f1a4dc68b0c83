// Package promote owns blue/green promotion by commit tags: an environment's Deployments run
// in two colours, router Services select the live one, and a tag `<env>/<anything>` (or a
// moving tag named after the environment) asks for its commit to be promoted. The Promoter
// deploys the commit to the idle colour beside a preview Service, gates it on health and on
// the environment's smoke Jobs, switches the routers in one apply, keeps the previous colour
// warm for a rollback window and then scales it to zero and prunes what left git.
//
// Split is the pure part: it turns an environment's rendered objects into the objects of one
// colour. The Promoter is the stateful part: one worker per environment, its state kept in a
// ConfigMap written before each step, so that an agent killed at any point resumes without
// ever leaving routers on an unhealthy colour.
package promote
