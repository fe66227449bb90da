// The shapes Emporium's API answers with (see http/openapi.yaml).

export interface Product {
  id: number;
  name: string;
  description: string;
  price: number;
  category: string;
  stockQuantity: number;
}

export interface ProductQuery {
  search?: string;
  category?: string;
  minPrice?: string;
  maxPrice?: string;
  sortBy?: "id" | "name" | "price" | "stockQuantity";
  sortOrder?: "asc" | "desc";
  page?: number;
  pageSize?: number;
}

export interface ProductPage {
  items: Product[];
  total: number;
}

export interface StockView {
  productId: number;
  onHand: number;
  available: number;
  reserved: number;
  sold: number;
}

export interface CartLine {
  productId: number;
  quantity: number;
  priceAtAddition: number;
  productName: string;
  lineTotal: number;
}

export interface Cart {
  userId: string;
  items: CartLine[];
  totalPrice: number;
}

/** Emporium's exact saga states. */
export type OrderState =
  | "Submitted"
  | "StockReserved"
  | "AuthenticationRequired"
  | "PaymentAuthorized"
  | "Confirmed"
  | "Cancelled";

export interface TimelineEntry {
  status: OrderState;
  reason: string;
  at: string;
}

export interface OrderLine {
  productId: number;
  quantity: number;
  unitPrice: number;
  productName: string;
}

export interface Order {
  id: number;
  userId: string;
  orderDate: string;
  totalAmount: number;
  status: string; // the seed's name: Pending / Completed / Cancelled
  state: OrderState;
  reason: string;
  paymentMethodId: string;
  items: OrderLine[];
  timeline: TimelineEntry[];
  /** AuthenticationRequired: what Stripe.js needs to run the card's 3-D Secure. */
  paymentAction?: { type: "authenticate"; clientSecret: string };
}

export interface PriceChange {
  productId: number;
  priceAtAddition: number;
  price: number;
}

export interface PlacedOrder {
  message: string;
  orderId: number;
  status: OrderState;
  totalAmount: number;
  priceChanges: PriceChange[];
}

export interface Session {
  token: string;
  userId: string;
  email: string;
  role: string;
  expiresAt: number; // ms since the epoch
}

/** A pushed status change from GET /ws. */
export interface OrderEvent {
  type: "order.status";
  orderId: number;
  status: OrderState;
  reason: string;
  seq: number;
  at: string;
}

/** A histogram as GET /api/admin/stats gives it: counts per bucket (not cumulative), +Inf last. */
export interface Histogram {
  count: number;
  sum: number;
  bounds: number[];
  buckets: number[];
}

/** One member's cumulative figures from GET /api/admin/stats. */
export interface NodeStats {
  node: string;
  reachable: boolean;
  at: number;
  breaker?: "closed" | "open" | "half_open";
  shardsOwned?: number;
  entitiesResident?: number;
  orders?: { placed: number; confirmed: number; cancelled: number; cancelledByReason: Record<string, number> };
  commit?: Histogram | null;
  routes?: { route: string; requests: number; serverErrors: number; duration: Histogram | null }[];
}

export interface ClusterStats {
  at: number;
  nodes: NodeStats[];
}

/** GET /api/payments/config: how this shop takes a payment. */
export interface PaymentConfig {
  provider: "test" | "stripe";
  /** Real money moves (Stripe with a live key). */
  livemode: boolean;
  /** Stripe's publishable key for the card form; null: test cards only. */
  publishableKey: string | null;
}
