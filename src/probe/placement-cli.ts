/**
 * `npm run placement`: where peer relays should go, for the article's 14 regions and for every
 * catalog region, against Tailscale's DERP relays. Method: src/tailnet/relay-placement.ts and the README.
 */
import { ARTICLE_REGIONS } from "../catalog/regions";
import { DERP_CITIES_SOURCE } from "../catalog/derp";
import { ALL_CATALOG_REGIONS, placementTable, renderPlacementMarkdown } from "../tailnet/relay-placement";

const article = placementTable(ARTICLE_REGIONS);
const all = ALL_CATALOG_REGIONS();
const catalog = placementTable(all);
console.log(renderPlacementMarkdown(`The article's ${ARTICLE_REGIONS.length} regions`, article));
console.log("");
console.log(renderPlacementMarkdown(`Every catalog region (${all.length})`, catalog));
console.log("");
console.log(`DERP cities: ${DERP_CITIES_SOURCE}. Fibre at 2/3 c along great circles; stretch over pairs more than 50 km apart.`);
