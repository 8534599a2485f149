"""spanledger: an event-sourced backend for custom named-entity recognition labeling with
auto-labeling. The design card's folders (src/domain, src/projections, src/api, ...) install as
its subpackages, so nothing but `spanledger` lands at the top level of site-packages."""
