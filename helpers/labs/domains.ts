// The Istio Certified Associate curriculum's domains and their weights (cncf/curriculum, ICA): an exam
// draws its tasks across them in these proportions.
export const DOMAINS = ['installation', 'traffic-management', 'securing-workloads', 'troubleshooting'] as const;
export type Domain = (typeof DOMAINS)[number];

export const DOMAIN_WEIGHTS: Record<Domain, number> = {
  installation: 20,
  'traffic-management': 35,
  'securing-workloads': 25,
  troubleshooting: 20,
};

export const DOMAIN_TITLES: Record<Domain, string> = {
  installation: 'Installation, Upgrade & Configuration',
  'traffic-management': 'Traffic Management',
  'securing-workloads': 'Securing Workloads',
  troubleshooting: 'Troubleshooting',
};
