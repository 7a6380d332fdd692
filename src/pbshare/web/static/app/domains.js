// Each domain's UI module exports { routes, nav } (and optionally home: [{ component, perm? }] for the home page). A domain adds one import line here.
// nav entries: { path, key (i18n), icon (Element Plus icon name), perm?, group? }
import * as core from "./pages/core/index.js";
import * as catalog from "./pages/catalog/index.js";
import * as channels from "./pages/channels/index.js";
import * as collect from "./pages/collect/index.js";
import * as compare from "./pages/compare/index.js";
import * as exchange from "./pages/exchange/index.js";
import * as forms from "./pages/forms/index.js";
import * as jobs from "./pages/jobs/index.js";
import * as metadata from "./pages/metadata/index.js";
import * as quality from "./pages/quality/index.js";
import * as reports from "./pages/reports/index.js";
import * as portal from "./pages/portal/index.js";
import * as security from "./pages/security/index.js";
import * as subscriptions from "./pages/subscriptions/index.js";
import * as warehouse from "./pages/warehouse/index.js";

export const domains = [core, catalog, metadata, collect, quality, warehouse, compare, forms, jobs, reports, exchange, subscriptions, portal, channels, security];
