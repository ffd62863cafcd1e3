package io.strata.controller;

import java.util.Set;

/**
 * What one pass of a reconciler makes of a LayerSet or OverlayMount from the Nodes and their
 * reports, before anything is written: the status, and the nodes that should carry its label.
 */
record Folded<S>(S status, Set<String> readyNodes) {}
