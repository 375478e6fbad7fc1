import { productsProjection } from '../../projections/products.js';
import { services } from '../dependencies.js';
import { projectionHandler } from './projectionHandler.js';

export const handler = projectionHandler(productsProjection, (slot) => services().viewStore('products', slot));
