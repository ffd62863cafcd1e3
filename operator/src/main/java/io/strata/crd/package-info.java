/**
 * The wire model of Strata's API (group {@code strata.io}, version {@code v1alpha1}).
 *
 * <p>These classes are plain JSON shapes: public fields, Jackson names, and the validation the API
 * server enforces, written as Fabric8 generator annotations next to each field. The CRDs in {@code
 * crds/} are generated from them ({@code CrdFilesTest} regenerates and compares), so a rule lives
 * in exactly one place. Behaviour belongs elsewhere.
 */
package io.strata.crd;
