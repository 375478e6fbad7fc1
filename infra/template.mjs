// @ts-check
/**
 * What the deployment's plugins (infra/alarms.mjs, infra/capacity.mjs) share: adding the resources they make to the
 * compiled template without replacing one that is there already.
 */

/**
 * The parts of the framework this uses.
 * @typedef {object} Serverless
 * @property {{ Error: new (message: string, code: string) => Error }} classes
 * @property {{ resources?: { Resources?: Record<string, unknown> }; provider: { compiledCloudFormationTemplate: { Resources: Record<string, unknown> } } }} service
 */

/**
 * Adds `made` to the compiled template. A logical id already in it, or among serverless.yml's resources (which the
 * framework merges in later, over what plugins added), is refused: a plugin must never silently replace a resource.
 * @param {Serverless} serverless
 * @param {Record<string, unknown>} made
 * @param {{ plugin: string; code: string }} by The plugin's file, for the message, and the error code it reports.
 */
export const addResources = (serverless, made, { plugin, code }) => {
  const { Resources } = serverless.service.provider.compiledCloudFormationTemplate;
  const declared = serverless.service.resources?.Resources ?? {};
  for (const [id, resource] of Object.entries(made)) {
    if (id in Resources || id in declared) {
      throw new serverless.classes.Error(`${plugin}: ${id} is already in the template`, code);
    }
    Resources[id] = resource;
  }
};
